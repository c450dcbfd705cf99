"""The constants of gmmmi's intervals: default HDI mass, constructions, study levels.

Constants only, in a module that imports nothing, so that modules that only
need them (`gmmmi.studies`, `gmmmi.plot`) import neither ArviZ nor each other.
"""

#: Probability mass of an HDI when none is given: ``Result.hdi``, `gmmmi.compare`
#: and the PyMC backend's summary use it (ArviZ's own default). Labels are built
#: from the probability actually used (``interval_name(prob, "hdi")``), never typed.
HDI_PROB = 0.94

#: the interval constructions of ``Result.interval``
INTERVAL_METHODS = ("normal", "hdi")

#: nominal probabilities of the intervals whose coverage `gmmmi.calibration` reports
LEVELS = (0.68, 0.95)
#: interval constructions reported by `gmmmi.calibration` (see `gmmmi.studies`)
INTERVALS = ("normal", "hdi", "basic")
