#!/usr/bin/python3
"""Prints one line per entry under DIR: path, type, mode, owner, size, times, inode, xattrs, sha256."""
import hashlib
import os
import sys

root = sys.argv[1]
for dirpath, dirnames, filenames in sorted(os.walk(root)):
    dirnames.sort()
    for name in [""] + sorted(filenames) + dirnames:
        p = os.path.join(dirpath, name) if name else dirpath
        st = os.lstat(p)
        xattrs = sorted((k, os.getxattr(p, k, follow_symlinks=False).hex()) for k in os.listxattr(p, follow_symlinks=False))
        digest = ""
        if os.path.isfile(p) and not os.path.islink(p):
            with open(p, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        print(os.path.relpath(p, root), oct(st.st_mode), st.st_uid, st.st_gid, st.st_size,
              st.st_mtime_ns, st.st_ctime_ns, st.st_ino, xattrs, digest)
