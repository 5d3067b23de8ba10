-- Cost-to-serve trajectory per account and month (docs/metrics.md, "Cost-to-serve trajectory"):
-- the ratio to revenue, the least-squares slope per month over the account's dense-range months
-- among the 6 ending at M (zeros included, NULL with fewer than 3), and the trend against 5% of
-- the mean cost to serve of those same months. The slope is computed from exact sums (money is
-- DECIMAL, month numbers are integers): slope = (n Σxy - Σx Σy) / (n Σx² - (Σx)²), so it is the
-- same on every run whatever order an engine adds in.
with monthly as (
    select
        account_id,
        month,
        cost_to_serve,
        revenue,
        -- months since 2000-01: small integers keep the exact sums small
        (extract(year from month) - 2000) * 12 + extract(month from month) as x
    from account_month_economics
),

windowed as (
    select
        *,
        count(*) over last_6_months as n,
        sum(x) over last_6_months as sum_x,
        sum(x * x) over last_6_months as sum_xx,
        sum(cost_to_serve) over last_6_months as sum_y,
        sum(x * cost_to_serve) over last_6_months as sum_xy
    from monthly
    window last_6_months as (partition by account_id order by month rows between 5 preceding and current row)
),

slopes as (
    select
        *,
        cast(n * sum_xy - sum_x * sum_y as double) / nullif(n * sum_xx - sum_x * sum_x, 0) as slope,
        cast(sum_y as double) / n as mean_cost_to_serve
    from windowed
)

select
    cast(account_id as varchar) as account_id,
    cast(month as date) as month,
    cast(cost_to_serve as decimal(38, 6)) as cost_to_serve,
    cast(revenue as decimal(38, 6)) as revenue,
    cast(cost_to_serve / nullif(revenue, 0) as double) as cost_to_serve_ratio,
    cast(case when n >= 3 then slope end as double) as cts_slope_6m,
    cast(case
        when n < 3 then null
        when slope > 0.05 * mean_cost_to_serve then 'rising'
        when slope < -0.05 * mean_cost_to_serve then 'falling'
        else 'flat'
    end as varchar) as cts_trend
from slopes
