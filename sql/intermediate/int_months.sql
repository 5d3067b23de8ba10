-- The data range (docs/metrics.md, "Periods"): every month from the earliest first active month of
-- all accounts through as_of_month. Month-level marts have a row for each.
select cast(month_start as date) as month
from (
    select
        unnest(generate_series(
            cast(min(spine.month) as timestamp),
            cast(max(periods.as_of_month) as timestamp),
            interval 1 month
        )) as month_start
    from int_account_months as spine
    cross join int_periods as periods
) as expanded
