"""Statistics that the reports and the rep benchmark share, in plain Python."""

# the z of a 95 % interval
WILSON_Z = 1.96


def wilson_interval(successes, trials, z=WILSON_Z):
    """The Wilson interval of the rate successes ÷ trials, as fractions
    (low, high); (None, None) without trials.

    center = (p + z²/2n) ÷ (1 + z²/n);
    half-width = z·√(p(1−p)/n + z²/4n²) ÷ (1 + z²/n).
    """
    if not trials:
        return None, None
    p = successes / trials
    denominator = 1 + z * z / trials
    center = (p + z * z / (2 * trials)) / denominator
    half = (
        z
        * ((p * (1 - p) / trials + z * z / (4 * trials * trials)) ** 0.5)
        / denominator
    )
    return max(center - half, 0.0), min(center + half, 1.0)
