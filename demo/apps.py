from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py seed_demo`: the demo data of `make run`. Nothing imports it."""

    name = "demo"
