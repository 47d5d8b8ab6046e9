"""The hand-off publisher: one message per (task, business) for what piled up, long batches split,
a broker failure logged without stopping the thread. The tasks here stand in for Celery's (they
record what would have been published); the real path runs in the worker tests."""

import threading

from nevermisscall import handoff


class RecordingTask:
    def __init__(self, name: str = "recording", fail: bool = False):
        self.name, self.calls, self.fail = name, [], fail

    def apply_async(self, *, args, headers):
        if self.fail:
            raise ConnectionError("broker down")
        self.calls.append((list(args), headers["_schema_name"]))


def test_a_batch_becomes_one_message_per_task_and_business_in_arrival_order():
    task, marker = RecordingTask(), threading.Event()
    handoff._Publisher._publish([(task, "t_a", "1"), (task, "t_b", "2"), (task, "t_a", "3"), marker])
    assert task.calls == [(["1", "3"], "t_a"), (["2"], "t_b")]
    assert marker.is_set()


def test_long_batches_are_split():
    task = RecordingTask()
    handoff.publish(task, [str(number) for number in range(120)], schema="t_a")
    assert [len(args) for args, _ in task.calls] == [50, 50, 20]


def test_a_failing_broker_is_logged_and_the_thread_goes_on(caplog):
    failing, working = RecordingTask("failing", fail=True), RecordingTask("working")
    publisher = handoff._current_publisher()
    publisher.submit((failing, "t_a", "1"))
    publisher.submit((working, "t_a", "2"))
    assert handoff.flush(5)
    assert working.calls == [(["2"], "t_a")]
    assert "the sweep will" in caplog.text
