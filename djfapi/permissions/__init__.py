"""Who may call what: permission classes, looped over by every viewset.

A permission has two boolean hooks, ``has_permission(viewset)`` (before any object is
looked up) and ``has_object_permission(viewset, obj)`` (in ``get_object``). Compose them
as in DRF::

    permission_classes = [IsOwner | IsStaff, ~IsArchived]
"""

from djfapi.permissions.base import AllowAny, BasePermission

__all__ = ["AllowAny", "BasePermission"]
