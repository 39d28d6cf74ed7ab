#!/usr/bin/python3
"""Tries each kind of change in DIR (files made by the host beforehand); prints NAME ok|ERRNO per line."""
import errno
import os
import sys

d = sys.argv[1]
v = lambda n: os.path.join(d, "victim-" + n)


def write():
    with open(v("write"), "r+b") as f:
        f.write(b"guest was here")


def create():
    with open(os.path.join(d, "created-by-guest"), "xb") as f:
        f.write(b"x")


ops = {
    "write": write,
    "create": create,
    "mkdir": lambda: os.mkdir(os.path.join(d, "dir-by-guest")),
    "delete": lambda: os.unlink(v("delete")),
    "rename": lambda: os.rename(v("rename"), os.path.join(d, "renamed-by-guest")),
    "chmod": lambda: os.chmod(v("chmod"), 0o600),
    "chown": lambda: os.chown(v("chown"), 4242, 4242),
    "setxattr": lambda: os.setxattr(v("setxattr"), "user.vfs", b"guest"),
    "truncate": lambda: os.truncate(v("truncate"), 0),
}
for name, op in ops.items():
    try:
        op()
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, str(e.errno)))
