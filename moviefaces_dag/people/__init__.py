"""People: who is who.

Grouping a movie's faces (the steps behind clustering.py): graph.py (unit vectors,
disjoint sets, nearest-neighbour edges, must-link tracklets), linkage.py (the clustering
algorithms over must-link units), evidence.py (single-shot groups and loose faces, settled by
evidence). A movie's people: movie_people.py (grouping, kept ids, decisions applied),
stable_ids.py, decisions.py. The review queue: review.py (the questions, best first, and the
decisions that record their answers), questions.py (a question), review_data.py (what it
reads of a movie).
"""
