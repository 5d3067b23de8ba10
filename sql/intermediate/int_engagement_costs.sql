-- Engagement program cost per enrollment and month (docs/metrics.md, "Costs"): the program's
-- cost_per_enrolled_account_usd in every month from the enrollment month through the month that
-- contains enrolled_at + evaluation_window_days, at the month's last-day rate (converted and
-- rounded once, money()), through as_of_month; NULL where no rate is in effect (listed in
-- rate_quarantine, adds nothing). Enrollments of unknown or deleted accounts fall under 'unattributed:crm';
-- enrollments without their program are orphans.
with enrollment_months as (
    select
        program_id,
        enrolled_account_id,
        account_id,
        cost_per_enrolled_account_usd,
        cast(month_start as date) as month
    from (
        select
            enrollments.program_id,
            enrollments.account_id as enrolled_account_id,
            coalesce(accounts.account_id, 'unattributed:crm') as account_id,
            programs.cost_per_enrolled_account_usd,
            unnest(generate_series(
                date_trunc('month', enrollments.enrolled_at),
                date_trunc(
                    'month', enrollments.enrolled_at + programs.evaluation_window_days * interval 1 day
                ),
                interval 1 month
            )) as month_start
        from stg_crm__program_enrollments as enrollments
        inner join stg_crm__programs as programs on programs.program_id = enrollments.program_id
        left join stg_crm__accounts as accounts on accounts.account_id = enrollments.account_id
    ) as expanded
),

usd as (
    select rate_date, unit_to_reporting from int_fx_daily where currency = 'USD'
)

select
    enrollment_months.program_id,
    enrollment_months.enrolled_account_id,
    enrollment_months.account_id,
    enrollment_months.month,
    last_day(enrollment_months.month) as fact_date,
    money(enrollment_months.cost_per_enrolled_account_usd * usd.unit_to_reporting) as engagement_cost
from enrollment_months
cross join int_periods as periods
left join usd on usd.rate_date = last_day(enrollment_months.month)
where enrollment_months.month <= periods.as_of_month
