"""The scheduler's rules, pure Python: no database, bus or HTTP.

- `sessions`: a session's lifecycle, its commands and the rules a session must keep.
- `places`: kecamatan and desa names as planners write them, resolved to slugs.
- `rotation`: the weekly rotations, holidays and the plan they produce.
- `generation`: what generating the calendar from the rotation may change, and the service mix.
"""
