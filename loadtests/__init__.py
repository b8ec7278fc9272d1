"""gil-lab: does your CPU-bound Python web service get faster on free-threaded 3.14t?

The package is the lab engine. Its modules are usable as a library; ``gil-lab`` (see
``loadtests.cli.main``) is a thin command line over them.
"""

__version__ = "0.1.0"
