"""Several runs of a figure and of its baseline, taken in turn so that the noise of a shared
machine falls on both alike; the table quotes medians."""
import logging
import statistics
import time

log = logging.getLogger("bench")
# A loaded platform is still finishing work after its load stops (requests the gateway had
# queued, events on their way): let it, so that the next run starts on a quiet machine.
SETTLE_SECONDS = 1


def alternate(what, runs, baseline, figure):
    """[baseline() results], [figure() results]: `runs` of each, a baseline run first each time."""
    baselines, figures = [], []
    for run in range(1, runs + 1):
        log.info("%s: run %d of %d", what, run, runs)
        for measure, results in ((baseline, baselines), (figure, figures)):
            time.sleep(SETTLE_SECONDS)
            results.append(measure())
    return baselines, figures


def median(results, attribute):
    return statistics.median(getattr(result, attribute) for result in results)
