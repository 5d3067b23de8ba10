-- Retention ratios are sane: 0 <= grr <= 1 and nrr >= grr >= 0, for 1-month and 12-month
-- (a tolerance of 1e-9 absorbs floating-point noise). Returns the rows that break a bound.
select month, segment, nrr_1m, grr_1m, nrr_12m, grr_12m
from retention
where grr_1m < -1e-9 or grr_1m > 1 + 1e-9 or nrr_1m < grr_1m - 1e-9
    or grr_12m < -1e-9 or grr_12m > 1 + 1e-9 or nrr_12m < grr_12m - 1e-9
