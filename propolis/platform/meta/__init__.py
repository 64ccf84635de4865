"""An enterprise's metadata as the platform uses it: the effective metadata of a
version (cached per process) and the versions themselves, applied, listed and
rolled back in the enterprise's storage."""
