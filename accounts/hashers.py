"""The password hasher: Argon2id at OWASP's minimum parameters.

Django's own Argon2 defaults (m = 100 MiB, t = 2, p = 8) cost about 180 ms
of CPU and 100 MiB of memory per hash on this project's 2-core servers, so a
server managed 5.5 logins a second. OWASP's Password Storage Cheat Sheet
names m = 19 MiB, t = 2, p = 1 as the minimum for Argon2id: about 25 ms of
CPU, which leaves room for 25 logins a second on two cores with the rest of
the login (throttle, session, audit) included. `make bench` measures it.

Why not more: more memory or passes buy little against offline guessing of
the passwords here (generated ones have about 92 bits of entropy; chosen
ones must pass Django's validators) but cost every login, and each hash in
progress holds its memory in the worker. Why not p > 1: lanes only spread one
hash over several cores; on a busy server they compete with other requests,
and an attacker's cost per guess is the same.

The class keeps Django's algorithm name, `argon2`, so hashes made with any
other parameters (Django's defaults included) still verify, and Django's
`must_update` sees the different parameters and rehashes the password at
that user's next successful login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    # KiB: 19 MiB.
    memory_cost = 19 * 1024
    parallelism = 1
