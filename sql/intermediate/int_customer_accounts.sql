-- Billing customers with their conformed account: the live CRM account they link to, or
-- 'unattributed:billing' (NULL, unknown or deleted CRM account). Facts of customers that are not
-- in this table at all fall under 'unattributed:billing' too (coalesce where they are joined).
select
    customers.customer_id,
    coalesce(accounts.account_id, 'unattributed:billing') as account_id,
    accounts.account_id is not null as is_attributed
from stg_billing__customers as customers
left join stg_crm__accounts as accounts on accounts.account_id = customers.crm_account_id
