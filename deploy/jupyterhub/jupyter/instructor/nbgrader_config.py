"""Instructors' Jupyter servers: the formgrader manages the course directory ~/cnncourse."""

import os

c = get_config()  # noqa: F821  (injected by traitlets when it executes this file)

c.CourseDirectory.root = os.path.expanduser("~/cnncourse")
