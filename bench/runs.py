"""Several runs of a figure and of its baseline, taken in turn so that the noise of a shared
machine falls on both alike; the table quotes medians."""
import logging
import statistics
import time

log = logging.getLogger("bench")
# A loaded platform is still finishing work after its load stops (requests the gateway had
# queued, events on their way): let it, so that the next run starts on a quiet machine.
SETTLE_SECONDS = 1


def alternate(what, runs, baseline, *figures):
    """[baseline() results], [figure() results] for each figure: `runs` of each, in turn, a
    baseline run first each time."""
    measures = (baseline, *figures)
    results = [[] for _ in measures]
    for run in range(1, runs + 1):
        log.info("%s: run %d of %d", what, run, runs)
        for measure, kept in zip(measures, results, strict=True):
            time.sleep(SETTLE_SECONDS)
            kept.append(measure())
    return results


def median(results, attribute):
    return statistics.median(getattr(result, attribute) for result in results)
