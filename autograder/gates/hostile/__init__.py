"""Hostile submissions: students who attack the grader instead of answering (issue 9).

``attacks`` holds the code they write, ``corpus`` the submissions of each assignment with
their honest twins (the fair grade is the twin's score, graded alone), ``run`` grades a batch
with plain ``nbgrader autograde`` or with ``python -m autograder grade`` and reads it back.
``python -m autograder.gates.hostile [--plain] [ASSIGNMENT]`` prints what each submission gets.
``tests/test_hostile.py`` grades the corpus with the engine and asserts every fair grade.
"""

__all__ = ["attacks", "corpus", "run"]
