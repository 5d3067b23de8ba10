-- Cost-to-serve trajectory per account and month (metrics.md, "Cost-to-serve trajectory"):
-- the ratio to revenue, the least-squares slope per month over the account's dense-range months
-- among the 6 ending at M (zeros included, NULL with fewer than 3), and the trend against 5% of
-- the mean cost to serve of those same months.
with monthly as (
    select
        account_id,
        month,
        cost_to_serve,
        revenue,
        extract(year from month) * 12 + extract(month from month) as month_number
    from account_month_economics
),

windowed as (
    select
        *,
        count(*) over last_6_months as months_in_window,
        regr_slope(cost_to_serve, month_number) over last_6_months as slope,
        avg(cost_to_serve) over last_6_months as mean_cost_to_serve
    from monthly
    window last_6_months as (partition by account_id order by month rows between 5 preceding and current row)
)

select
    cast(account_id as varchar) as account_id,
    cast(month as date) as month,
    cast(cost_to_serve as double) as cost_to_serve,
    cast(revenue as double) as revenue,
    cast(cost_to_serve / nullif(revenue, 0) as double) as cost_to_serve_ratio,
    cast(case when months_in_window >= 3 then slope end as double) as cts_slope_6m,
    cast(case
        when months_in_window < 3 then null
        when slope > 0.05 * mean_cost_to_serve then 'rising'
        when slope < -0.05 * mean_cost_to_serve then 'falling'
        else 'flat'
    end as varchar) as cts_trend
from windowed
