-- Money conversion factors per currency and day (docs/metrics.md, "Money conversion"):
-- value = amount / 10^exponent / units_per_usd(currency) * units_per_usd(reporting currency).
-- minor_unit_to_reporting converts billing amounts (integers in minor units);
-- unit_to_reporting converts whole units (the USD cost tables use currency = 'USD').
with fx as (
    select rate_date, rate_key as currency, rate as units_per_usd
    from int_rates_daily
    where rate_kind = 'fx'
),

reporting as (
    select fx.rate_date, fx.units_per_usd as reporting_units_per_usd
    from fx
    inner join run_settings on fx.currency = run_settings.reporting_currency
)

select
    fx.rate_date,
    fx.currency,
    currencies.minor_unit_exponent,
    reporting.reporting_units_per_usd / fx.units_per_usd as unit_to_reporting,
    reporting.reporting_units_per_usd / fx.units_per_usd
    / power(10, currencies.minor_unit_exponent) as minor_unit_to_reporting
from fx
inner join stg_finance__currencies as currencies on currencies.currency = fx.currency
inner join reporting on reporting.rate_date = fx.rate_date
