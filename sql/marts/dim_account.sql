-- The conformed accounts: live CRM accounts (current attributes for their whole history) plus the
-- three pseudo-accounts that keep what cannot be linked, attributes NULL (docs/metrics.md, "Accounts").
with pseudo_accounts as (
    select account_id
    from (values ('unattributed:billing'), ('unattributed:support'), ('unattributed:crm')) as pseudo (account_id)
)

select
    account_id,
    account_name,
    segment,
    risk_tier,
    country,
    industry,
    created_at
from stg_crm__accounts
union all
select
    account_id,
    cast(null as varchar) as account_name,
    cast(null as varchar) as segment,
    cast(null as varchar) as risk_tier,
    cast(null as varchar) as country,
    cast(null as varchar) as industry,
    cast(null as timestamp) as created_at
from pseudo_accounts
