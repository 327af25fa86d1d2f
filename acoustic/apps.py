from django.apps import AppConfig


class AcousticConfig(AppConfig):
    name = "acoustic"

    def ready(self) -> None:
        from celery.signals import task_failure, worker_ready
        from django.core.signals import setting_changed

        from acoustic import encryption, unreadable_secrets

        setting_changed.connect(encryption.forget_cached_keys)
        task_failure.connect(unreadable_secrets.log_task_failure)
        worker_ready.connect(unreadable_secrets.report_at_worker_start)
