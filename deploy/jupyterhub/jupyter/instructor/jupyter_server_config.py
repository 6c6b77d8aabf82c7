"""Instructors' Jupyter servers: let JupyterLab show the formgrader in its iframe.

JupyterHub >= 4.1 sends ``frame-ancestors 'none'``, which blanks the formgrader panel. This is
nbgrader's documented setting for trusted users ("Formgrader with jupyterhub>=4.1"); students'
servers keep the hub's default.
"""

c = get_config()  # noqa: F821  (injected by traitlets when it executes this file)

c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
