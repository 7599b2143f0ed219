"""The project's code location with the in-process executor: what the loop test's daemon loads.

Everything is the real thing (assets, jobs, sensors and their default status, resources); only
the executor differs, so a run's steps share the run's process instead of each starting a
process that loads the whole code location again (about 10 s a step on 2 busy cores). That is
a speed choice for the test, like its tiny models; `bench/bench_loop.py` times the project's
own location.
"""

import dagster as dg

# The module, not its function: a second @definitions function in this module's scope would
# make the location ambiguous.
from sentiment_assets import definitions as project


@dg.definitions
def defs() -> dg.Definitions:
    """The project's definitions, steps executed in the run's process."""
    return dg.Definitions.merge(project.defs(), dg.Definitions(executor=dg.in_process_executor))
