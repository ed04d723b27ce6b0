"""Sign-in, password policy, lock-out, two-factor authentication and the role backend."""
