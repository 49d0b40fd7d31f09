"""Evidence for auditors: bundles (``bundle.py``), OSCAL (``oscal.py``) and the
deadlines a change starts (``deadlines.py``); see docs/evidence.md."""
