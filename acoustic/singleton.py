from django.db import models


class SingletonModel(models.Model):
    """A settings table with exactly one row (pk=1), edited in the admin."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        row, _created = cls.objects.get_or_create(pk=1)
        return row
