"""Small helpers every layer may use: settings, code versions, words, boxes, progress, faults."""
