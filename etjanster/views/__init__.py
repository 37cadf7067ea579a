"""E-tjänster: the principal's and test administrator's pages.

Every page starts from `etjanster_school_units` (a school outside it is a
404), reaches memberships and test administrators only below that school,
and asks `permissions.policy` whether the user may change what it shows
(may see but not change is a 403). Writes go through `permissions.services`.
"""
