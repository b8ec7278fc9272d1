"""What the analysis hands down: frozen records and constants, and nothing that computes them.

Renderers (``loadtests.report``) import from ``loadtests.analysis`` only these modules,
one per concept; the functions that compute the figures stay in the modules beside this
package. An import-linter contract in ``make lint`` holds both rules: nothing in
``report`` imports a computing analysis module, and nothing here does either.
"""
