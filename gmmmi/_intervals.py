"""The default probability mass of gmmmi's highest-density intervals (HDI).

One constant, in a module that imports nothing, so that modules that only
need the default (e.g. `gmmmi.studies`) do not import ArviZ when imported.
"""

#: Probability mass of an HDI when none is given: ``Result.hdi``, `gmmmi.compare`
#: and the PyMC backend's summary use it (ArviZ's own default). Labels are built
#: from the probability actually used (``interval_name(prob, "hdi")``), never typed.
HDI_PROB = 0.94
