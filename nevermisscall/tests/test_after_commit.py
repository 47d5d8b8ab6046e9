"""The after-commit publisher: nothing before the commit, one message per (task, business) for what
piled up, long batches split, a broker failure logged without stopping the thread, hand-offs run
here when asked. The tasks stand in for Celery's (they record what would have been published); the
real path runs in the worker tests."""

import threading

import pytest
from django.db import transaction

from nevermisscall import after_commit

pytestmark = pytest.mark.django_db


class RecordingTask:
    def __init__(self, name: str = "recording", fail: bool = False):
        self.name, self.calls, self.ran, self.fail = name, [], [], fail

        class Conf:
            task_always_eager = False

        class App:
            conf = Conf()

        self.app = App()

    def apply_async(self, *, args, headers):
        if self.fail:
            raise ConnectionError("broker down")
        self.calls.append((list(args), headers["_schema_name"]))

    def run(self, ident):
        self.ran.append(ident)


def test_a_batch_becomes_one_message_per_task_and_business_in_arrival_order():
    task, marker = RecordingTask(), threading.Event()
    publisher = after_commit._current_publisher()
    origin = after_commit._capture_origin()
    publisher._publish(
        [
            ("task", task, "t_a", "1", origin),
            ("task", task, "t_b", "2", origin),
            ("task", task, "t_a", "3", origin),
            marker,
        ]
    )
    assert task.calls == [(["1", "3"], "t_a"), (["2"], "t_b")]
    assert marker.is_set()


def test_long_batches_are_split():
    task = RecordingTask()
    after_commit.publish_now(task, [str(number) for number in range(120)], schema="t_a")
    assert [len(args) for args, _ in task.calls] == [50, 50, 20]


def test_nothing_leaves_before_the_commit_and_nothing_after_a_rollback(django_capture_on_commit_callbacks):
    task = RecordingTask()
    with pytest.raises(RuntimeError), transaction.atomic():
        after_commit.enqueue(task, "lost", schema="t_a")
        raise RuntimeError
    with django_capture_on_commit_callbacks(execute=True):
        after_commit.enqueue(task, "1", schema="t_a")
        assert not task.calls
    assert after_commit.flush(5)
    assert task.calls == [(["1"], "t_a")]


def test_a_failing_broker_is_logged_and_the_thread_goes_on(caplog):
    failing, working = RecordingTask("failing", fail=True), RecordingTask("working")
    publisher = after_commit._current_publisher()
    origin = after_commit._capture_origin()
    publisher.submit(("task", failing, "t_a", "1", origin))
    publisher.submit(("task", working, "t_a", "2", origin))
    assert after_commit.flush(5)
    assert working.calls == [(["2"], "t_a")]
    assert "the sweep will" in caplog.text


def test_a_malformed_item_is_logged_and_the_thread_goes_on(caplog):
    """A bug in one batch must not silence every later event of the process."""
    task = RecordingTask("after")
    publisher = after_commit._current_publisher()
    publisher.submit(("task", task, "t_a"))
    assert after_commit.flush(5)
    publisher.submit(("task", task, "t_a", "2", after_commit._capture_origin()))
    assert after_commit.flush(5)
    assert task.calls == [(["2"], "t_a")]
    assert "could not publish a batch" in caplog.text


def test_running_here_runs_the_task_in_this_thread_after_the_commit(django_capture_on_commit_callbacks):
    task, other = RecordingTask("here"), RecordingTask("elsewhere")
    with after_commit.running_here(task), django_capture_on_commit_callbacks(execute=True):
        after_commit.enqueue(task, "1", schema="t_a")
        after_commit.enqueue(other, "2", schema="t_a")
        assert task.ran == []
    assert after_commit.flush(5)
    assert (task.ran, task.calls, other.calls) == (["1"], [], [(["2"], "t_a")])
