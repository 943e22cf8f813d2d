"""Grouping faces into people: the steps behind `moviefaces_dag.clustering`.

graph.py: unit vectors, disjoint sets, nearest-neighbour edges, must-link tracklets;
linkage.py: the clustering algorithms over must-link units;
evidence.py: single-shot groups and loose faces, settled by evidence.
"""
