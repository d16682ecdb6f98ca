"""The text detector: does a text support or promote a jihadist terrorist organisation?"""

from basira.detect.detector import Detection, Detector, Evidence, load_detector
from basira.detect.indicators import IndicatorHit, find_indicators
from basira.detect.lexicon import STANCE_CATEGORIES, SUPPORT_CATEGORIES

__all__ = [
    "Detection",
    "Detector",
    "Evidence",
    "IndicatorHit",
    "STANCE_CATEGORIES",
    "SUPPORT_CATEGORIES",
    "find_indicators",
    "load_detector",
]
