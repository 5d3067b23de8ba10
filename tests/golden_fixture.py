"""A small hand-written landing folder with the edge cases of docs/metrics.md.

Accounts A1 (USD + EUR customers), A2 (JPY), A3 (KRW); A4 is deleted. Facts run from January to
March 2025, so as_of_month is 2025-03. The expected mart values are worked out by hand in
``test_marts_golden.py`` next to each assertion.

FX (units per USD): EUR 0.8 from Wed 2025-01-01, 0.5 from Mon 2025-02-03 (the weekend of
1–2 February uses Friday's 0.8); JPY 100; KRW 1000.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from assets.resources import WarehouseResource
from tests.conftest import write

FILES = {
    "finance/currencies/d/currencies.csv": """currency,minor_unit_exponent
USD,2
EUR,2
JPY,0
KRW,0
""",
    "finance/fx_rates/d/fx.csv": """rate_date,currency,units_per_usd
2025-01-01,EUR,0.8
2025-01-31,EUR,0.8
2025-02-03,EUR,0.5
2025-01-01,JPY,100
2025-01-01,KRW,1000
""",
    "finance/agent_costs/d/agent_costs.csv": """agent_tier,effective_from,hourly_cost_usd
l1,2024-01-01,60
l1,2025-01-16,90
l2,2024-01-01,120
compliance,2024-01-01,180
""",
    "finance/exception_unit_costs/d/unit_costs.csv": """category,effective_from,unit_cost_usd
chargeback,2024-01-01,15
chargeback,2025-02-15,20
reconciliation_break,2024-01-01,5
manual_review,2024-01-01,10
compliance_query,2024-01-01,10
custom_workflow,2024-01-01,10
""",
    "finance/infra_costs/d/infra.csv": """effective_from,cost_per_settled_transaction_usd
2025-01-01,0.01
2025-02-15,0.02
""",
    "crm/accounts/d/accounts.csv": """account_id,account_name,industry,country,segment,risk_tier,owner_email,created_at,is_deleted,updated_at
A1,Alpha,saas,US,smb,low,owner@example.com,2024-06-01T00:00:00,false,2024-06-01T00:00:00
A2,Beta,retail,JP,enterprise,medium,,2024-06-01T00:00:00,false,2024-06-01T00:00:00
A3,Gamma,travel,KR,mid_market,high,,2024-06-01T00:00:00,false,2024-06-01T00:00:00
A4,Deleted,travel,DE,smb,low,,2024-06-01T00:00:00,true,2024-06-01T00:00:00
""",
    "crm/engagement_events/d/events.csv": """event_id,account_id,occurred_at,event_type,channel,feature,nps_score,program_id,updated_at
V1,A3,2025-01-05T09:00:00,portal_login,web,,,,2025-01-05T09:00:00
V2,A9,2025-01-06T09:00:00,portal_login,web,,,,2025-01-06T09:00:00
""",
    "crm/programs/d/programs.csv": """program_id,name,launched_on,cost_per_enrolled_account_usd,target_metric,expected_change,evaluation_window_days,kill_threshold,owner,updated_at
P1,Reconciliation onboarding,2025-01-01,40,exception_handling_cost,-0.2,45,-0.05,ops,2024-12-01T00:00:00
P2,QBR,2025-03-01,10,revenue,0.1,90,0.02,cs,2024-12-01T00:00:00
""",
    "crm/program_enrollments/d/enrollments.csv": """program_id,account_id,enrolled_at,updated_at
P1,A1,2025-01-20T00:00:00,2025-01-20T00:00:00
P1,A9,2025-02-10T00:00:00,2025-02-10T00:00:00
P2,A2,2025-03-01T00:00:00,2025-03-01T00:00:00
P404,A1,2025-01-20T00:00:00,2025-01-20T00:00:00
""",
    "billing/customers/d/customers.csv": """customer_id,crm_account_id,currency,email,created_at,updated_at
C1,A1,USD,,2024-06-01T00:00:00,2024-06-01T00:00:00
C2,A2,JPY,,2024-06-01T00:00:00,2024-06-01T00:00:00
C3,A3,KRW,,2024-06-01T00:00:00,2024-06-01T00:00:00
C4,,USD,,2024-06-01T00:00:00,2024-06-01T00:00:00
C5,A4,EUR,,2024-06-01T00:00:00,2024-06-01T00:00:00
C6,A1,EUR,,2024-06-01T00:00:00,2024-06-01T00:00:00
""",
    "billing/invoices/d/invoices.csv": """invoice_id,customer_id,subscription_id,status,currency,amount_due,amount_paid,created_at,due_at,paid_at,updated_at
I1,C1,S1,paid,USD,108000,108000,2025-01-01T00:00:00,,2025-01-02T00:00:00,2025-01-02T00:00:00
I2,C2,S2,open,JPY,35000,0,2025-01-15T00:00:00,,,2025-01-15T00:00:00
I3,C3,S3,paid,KRW,250000,250000,2025-02-01T10:00:00,,2025-02-02T00:00:00,2025-02-02T00:00:00
I4,C3,S3,void,KRW,200000,0,2025-03-01T00:00:00,,,2025-03-01T00:00:00
I5,C3,S3,draft,KRW,200000,0,2025-03-01T00:00:00,,,2025-03-01T00:00:00
I6,C3,S3,uncollectible,KRW,200000,0,2025-03-01T00:00:00,,,2025-03-01T00:00:00
I7,C6,,paid,EUR,8000,8000,2025-02-01T12:00:00,,2025-02-01T12:00:00,2025-02-01T12:00:00
I8,C6,,paid,EUR,8000,8000,2025-02-03T12:00:00,,2025-02-03T12:00:00,2025-02-03T12:00:00
I9,C4,,paid,USD,5000,5000,2025-01-20T00:00:00,,2025-01-20T00:00:00,2025-01-20T00:00:00
I10,C5,S5,paid,EUR,10000,10000,2025-03-05T00:00:00,,2025-03-05T00:00:00,2025-03-05T00:00:00
I11,C99,,paid,USD,1000,1000,2025-01-10T00:00:00,,2025-01-10T00:00:00,2025-01-10T00:00:00
""",
    "billing/invoice_line_items/d/lines.csv": """line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,description,updated_at
L1,I1,subscription,120000,USD,2025-01-01,2026-01-01,false,annual plan,2025-01-01T00:00:00
L2,I1,discount,-12000,USD,2025-01-01,2026-01-01,false,10% off,2025-01-01T00:00:00
L3,I2,subscription,30000,JPY,2025-01-15,2025-04-15,false,quarterly plan,2025-01-15T00:00:00
L4,I2,subscription,5000,JPY,2025-01-10,2025-01-15,true,proration,2025-01-15T00:00:00
L5,I3,subscription,200000,KRW,2025-02-01,2025-03-01,false,monthly plan,2025-02-01T10:00:00
L6,I3,credit,-50000,KRW,2025-02-01,2025-02-01,false,service credit,2025-02-01T10:00:00
L7,I3,one_time,100000,KRW,2025-02-01,2025-03-01,false,setup,2025-02-01T10:00:00
L8,I4,subscription,200000,KRW,2025-03-01,2025-04-01,false,void,2025-03-01T00:00:00
L9,I5,subscription,200000,KRW,2025-03-01,2025-04-01,false,draft,2025-03-01T00:00:00
L10,I6,subscription,200000,KRW,2025-03-01,2025-04-01,false,uncollectible,2025-03-01T00:00:00
L11,I7,usage,8000,EUR,2025-01-01,2025-02-01,false,January usage,2025-02-01T12:00:00
L12,I8,usage,8000,EUR,2025-02-01,2025-03-01,false,February usage,2025-02-03T12:00:00
L13,I9,one_time,5000,USD,2025-01-20,2025-01-20,false,setup,2025-01-20T00:00:00
L14,I10,subscription,10000,EUR,2025-03-05,2025-04-05,false,monthly plan,2025-03-05T00:00:00
L15,I11,one_time,1000,USD,2025-01-10,2025-01-10,false,fee,2025-01-10T00:00:00
L16,I404,subscription,1000,USD,2025-01-01,2025-02-01,false,orphan,2025-01-01T00:00:00
""",
    "billing/transactions/d/transactions.csv": """transaction_id,customer_id,occurred_at,status,amount,currency,processing_cost,updated_at
T1,C1,2025-01-10T10:00:00,settled,10000,USD,250,2025-01-10T10:00:00
T2,C1,2025-01-11T10:00:00,refunded,10000,USD,100,2025-01-11T10:00:00
T3,C1,2025-01-12T10:00:00,failed,10000,USD,100,2025-01-12T10:00:00
T4,C2,2025-02-10T10:00:00,disputed,10000,JPY,300,2025-02-10T10:00:00
T5,C2,2025-02-11T10:00:00,settled,10000,JPY,200,2025-02-11T10:00:00
T6,C99,2025-03-01T10:00:00,settled,10000,USD,50,2025-03-01T10:00:00
""",
    "billing/charges/d/charges.csv": """charge_id,invoice_id,customer_id,created_at,amount,fee,currency,status,updated_at
H1,I1,C1,2025-01-02T00:00:00,108000,350,USD,succeeded,2025-01-02T00:00:00
H2,I3,C3,2025-02-02T00:00:00,250000,5000,KRW,succeeded,2025-02-02T00:00:00
H3,I3,C3,2025-02-01T11:00:00,250000,0,KRW,failed,2025-02-01T11:00:00
H4,I7,C6,2025-02-01T12:00:00,8000,400,EUR,refunded,2025-02-01T12:00:00
""",
    "support/organizations/d/organizations.csv": """organization_id,name,external_id,updated_at
O1,Alpha,A1,2024-06-01T00:00:00
O2,Beta,A2,2024-06-01T00:00:00
O3,No link,,2024-06-01T00:00:00
O4,Deleted,A4,2024-06-01T00:00:00
""",
    "support/tickets/d/tickets.csv": """ticket_id,organization_id,requester_email,created_at,solved_at,status,priority,channel,category,reopens,csat,updated_at
K1,O1,a@example.org,2025-01-10T09:00:00,,solved,low,email,how_to,0,5,2025-01-10T09:00:00
K2,O1,,2025-01-31T20:00:00,,solved,high,phone,chargeback,0,,2025-01-31T20:00:00
K3,O2,,2025-02-20T09:00:00,,solved,normal,web,reconciliation_break,0,,2025-02-20T09:00:00
K4,O3,,2025-03-02T09:00:00,,open,low,web,bug,0,,2025-03-02T09:00:00
K5,,,2025-03-03T09:00:00,,open,urgent,api,chargeback,0,,2025-03-03T09:00:00
""",
    "support/time_entries/d/time_entries.csv": """time_entry_id,ticket_id,agent_id,agent_tier,minutes,logged_at,updated_at
E1,K1,ag1,l1,30,2025-01-10T10:00:00,2025-01-10T10:00:00
E2,K1,ag1,l1,30,2025-01-20T10:00:00,2025-01-20T10:00:00
E3,K2,ag2,l2,60,2025-02-01T10:00:00,2025-02-01T10:00:00
E4,K3,ag3,compliance,20,2025-02-20T10:00:00,2025-02-20T10:00:00
E5,K4,ag1,l1,12,2025-03-02T10:00:00,2025-03-02T10:00:00
E6,K404,ag1,l1,10,2025-03-02T10:00:00,2025-03-02T10:00:00
""",
}


def write_golden_landing(landing: Path) -> None:
    for relative_path, text in FILES.items():
        write(landing, relative_path, text)


def golden_warehouse(root: Path, reporting_currency: str = "USD") -> WarehouseResource:
    """Write the golden landing folder under ``root``; the warehouse beside it (not run yet)."""
    write_golden_landing(root / "landing")
    return WarehouseResource(
        landing_dir=str(root / "landing"),
        warehouse_dir=str(root / "warehouse"),
        reporting_currency=reporting_currency,
    )


def publish_golden(root: Path) -> str:
    """Write the golden landing folder under ``root`` and run and publish it once; the run id."""
    from tests.conftest import materialize_all

    return materialize_all(golden_warehouse(root)).run_id


def private_copy(root: Path, tmp_path: Path) -> WarehouseResource:
    """A private copy of a published state (landing, working database, publications, links)."""
    shutil.copytree(root / "landing", tmp_path / "landing")
    shutil.copytree(root / "warehouse", tmp_path / "warehouse", symlinks=True)  # relative links
    return WarehouseResource(landing_dir=str(tmp_path / "landing"), warehouse_dir=str(tmp_path / "warehouse"))


def land_an_impostor_account(landing: Path) -> None:
    """A late CRM account that takes a pseudo-account's id: dim_account's grain check fails."""
    write(
        landing,
        "crm/accounts/late/a.csv",
        "account_id,account_name,country,segment,risk_tier,created_at,is_deleted,updated_at\n"
        "unattributed:billing,Impostor,US,smb,low,2024-06-01,false,2024-06-01\n",
    )


LATE_TICKET = "support/tickets/late/t.csv"


def land_a_late_ticket(landing: Path) -> None:
    """A late chargeback ticket of A1 (organization O1) in March: changes the exception cost."""
    write(
        landing,
        LATE_TICKET,
        "ticket_id,organization_id,requester_email,created_at,solved_at,status,priority,channel,"
        "category,reopens,csat,updated_at\n"
        "K99,O1,,2025-03-20T09:00:00,,solved,high,email,chargeback,0,,2025-03-21T09:00:00\n",
    )
