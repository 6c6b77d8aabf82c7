"""nbgrader settings for every user of the hub (install.sh renders this into the shared env).

Every Jupyter server and every ``nbgrader`` command run from the shared environment reads it:
students fetch from and submit to the one exchange, and see only this course (without a
course id, fetch fails and the Assignment List shows every course in the exchange).
"""

c = get_config()  # noqa: F821  (injected by traitlets when it executes this file)

c.CourseDirectory.course_id = "cnncourse"
c.Exchange.root = "@EXCHANGE@"
# Any formgrader on the hub, whatever course folder it opens: sanitized HTML outputs and no
# JavaScript outputs in the pages it renders from students' notebooks (course/nbgrader_config.py too).
c.HTMLExporter.sanitize_html = True
