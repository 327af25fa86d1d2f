"""The faults bench/chaos.py injects at fixed points of its run: 429s, a token expiry, a killed worker, Redis killed
and restarted, Redis hung (accepting connections, answering nothing), and amoCRM refusing deals with 402 for a while.
"""

import threading
import time

import chaos_support as cs

# How long the two long faults last (seconds); each starts at its point of the submission window. The hang is
# shorter in a short window (--quick), so that it ends before Redis is killed.
REDIS_HANG_SECONDS = 20
REDIS_HANG_SHARE = 0.15
PAYMENT_REQUIRED_SECONDS = 60


class FaultEvents:
    """Mixed into the bench: each method is one event of its timeline (self.sandbox, self.redis, self.workers...)."""

    def force_429(self) -> None:
        left = self.sandbox.settings()["faults"]["force_429_next"]
        self.sandbox.control(force_429_next=left + 1)  # the control sets the counter; one not yet used stays
        self.armed_429 += 1
        self.say(f"429 armed for the next API request ({left + 1} waiting)")

    def expire_tokens(self) -> None:
        done = self.sandbox.control(expire_tokens=True)["done"]
        self.say(f"access tokens expired in the sandbox: {done}")

    def kill_worker(self) -> None:
        from amocrm.models import Delivery, DeliveryState

        # Mid-batch if possible: a worker killed while it holds claimed deliveries tests the lease and the look-up.
        deadline, busy = time.time() + 60, []
        while not busy and time.time() < deadline:
            busy = [w for w in self.workers if cs.busy_with_push(w)]
            time.sleep(0.02)
        worker = (busy or self.workers)[0]
        sending = Delivery.objects.filter(state=DeliveryState.SENDING).count()
        worker.kill_group()
        state = "in the middle of a push_lead" if busy else "idle (none was busy within 60 s)"
        self.say(f"SIGKILL to {worker.name}'s process group, {state}; {sending} deliveries were claimed")
        time.sleep(2)
        worker.start()
        cs.wait_until(lambda: cs.worker_ready(worker), worker.name, 60, worker)
        self.say(f"{worker.name} restarted and ready")

    def restart_redis(self) -> None:
        self.redis.kill_group()
        self.say("redis-server killed (SIGKILL; no persistence: queue, limiter and cache are gone)")
        time.sleep(3)
        self.redis.start()
        cs.wait_until(lambda: cs.redis_ready(self.redis_port), "redis-server", 10, self.redis)
        self.say("redis-server started again on the same port")

    def hang_redis(self) -> None:
        """SIGSTOP to redis-server: connections are still accepted, nothing is answered; posts must stay fast."""
        seconds = min(REDIS_HANG_SECONDS, REDIS_HANG_SHARE * self.args.leads / self.args.rate)
        self.redis.freeze_group(True)
        self.hang = (time.time(), time.time() + seconds)
        self.say(f"redis-server frozen (SIGSTOP) for {seconds:.0f} s: it accepts connections, answers nothing")
        threading.Timer(seconds, self._thaw_redis).start()

    def _thaw_redis(self) -> None:
        self.redis.freeze_group(False)
        self.say("redis-server answers again (SIGCONT)")

    def require_payment(self) -> None:
        """amoCRM answers every write with 402 for a while: sending pauses, no lead is parked, all go once it ends."""
        self.sandbox.control(payment_required=True)
        self.say(f"amoCRM answers writes with 402 (payment required) for {PAYMENT_REQUIRED_SECONDS} s")
        threading.Thread(target=self._watch_pause, daemon=True).start()
        threading.Timer(PAYMENT_REQUIRED_SECONDS, self._paid).start()

    def _paid(self) -> None:
        self.sandbox.control(payment_required=False)
        self.paid_at = time.time()
        self.say("amoCRM takes deals again (402 off); the site finds out at its next try of one lead")

    def _watch_pause(self) -> None:
        from amocrm.models import Settings

        deadline = time.time() + PAYMENT_REQUIRED_SECONDS + 600
        while time.time() < deadline:
            paused = Settings.objects.filter(pk=1).exclude(sending_paused_reason="").exists()
            if paused and self.paused_at is None:
                self.paused_at = time.time()
                self.say("sending paused by the site after the 402")
            if not paused and self.paused_at is not None:
                self.resumed_at = time.time()
                self.say("sending resumed by itself after a lead went through")
                return
            time.sleep(0.5)
