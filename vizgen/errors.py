"""Exceptions raised by vizgen. Each message names the next step to take."""


class VizgenError(Exception):
    """Base class: the CLI prints the message and exits non-zero."""


class AssetError(VizgenError):
    """An offline asset is missing, corrupt or cannot be fetched."""


class CourseLayoutError(VizgenError):
    """The course repository (autograder/, solutions/, ...) cannot be found or is incomplete."""


class NotebookError(VizgenError):
    """A notebook cannot be read or lacks what grading needs."""


class ReleaseLeakError(VizgenError):
    """A release bundle would ship solutions, hidden checks or reference outputs."""
