"""The background loop of `basira serve`: it keeps running through a failing round and cleans up on stop."""

import threading

from basira.core.periodic import PeriodicLoop


def test_a_failing_round_does_not_stop_the_loop_and_stop_cleans_up():
    rounds, closed, third = [], [], threading.Event()

    def step():
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the first round fails")
        if len(rounds) >= 3:
            third.set()

    loop = PeriodicLoop(step, 0.01, "test-loop", on_stop=lambda: closed.append(True))
    loop.start()
    assert third.wait(10), "the loop stopped after its failing round"
    loop.stop()
    assert closed == [True]
    done = len(rounds)
    assert not loop._thread.is_alive() and len(rounds) == done
