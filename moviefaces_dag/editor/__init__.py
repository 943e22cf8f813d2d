"""The browser people editor (`moviefaces serve`): a local web app over an output folder that
shows a movie's people and records the user's decisions in the same files the command line
writes, shows their effect at once and brings the static report up to date in the background."""
