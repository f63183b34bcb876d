import threading

# how long the first transaction stays open once its work is done, waiting for
# the second one to finish: a second one that waits for the first one's locks
# does not finish by then
OVERLAP_SECONDS = 3


def run_overlapping(registry, first_work, second_work, overlap=OVERLAP_SECONDS):
    """Run ``first_work(cr)`` and ``second_work(cr)`` in two overlapping
    transactions, each on its own connection, as two workers would: the second
    one starts once the first one's work is done (flushed), with its transaction
    still open; the first one commits once the second one has finished or after
    ``overlap`` seconds.

    :return: what each one raised, [first, second] (None when it did not)
    """
    worked, finished = threading.Event(), threading.Event()
    raised = [None, None]

    def first():
        try:
            with registry.cursor() as cr:
                first_work(cr)
                cr.flush()
                worked.set()
                finished.wait(timeout=overlap)
        except Exception as exc:  # noqa: BLE001  (reported by the test)
            raised[0] = exc
        finally:
            worked.set()

    def second():
        worked.wait(timeout=30)
        try:
            with registry.cursor() as cr:
                second_work(cr)
                cr.flush()
        except Exception as exc:  # noqa: BLE001  (reported by the test)
            raised[1] = exc
        finally:
            finished.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return raised
