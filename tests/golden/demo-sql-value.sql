-- 1. maturity: the as-of instant and the creation→close lag quantile
SELECT
  QUANTILE_CONT(
    CASE
      WHEN (
        "t0"."status" = 'won'
      )
      AND (
        "t0"."closed_at" IS NOT NULL
      )
      AND (
        "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
      )
      THEN EPOCH("t0"."closed_at") - EPOCH("t0"."created_at")
      ELSE CAST(NULL AS DOUBLE)
    END,
    0.9
  ) AS "lag_q",
  COUNT(*) FILTER(WHERE
    (
      "t0"."status" = 'won'
    )
    AND (
      "t0"."closed_at" IS NOT NULL
    )
    AND (
      "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
    )) AS "won",
  COUNT(*) FILTER(WHERE
    (
      "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
    )
    AND NOT (
      "t0"."status" IN ('won', 'lost')
      AND (
        (
          "t0"."closed_at" IS NULL
        )
        OR (
          "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
        )
      )
    )) AS "open"
FROM "leads" AS "t0";

-- 2. per group: leads, mature, won, won revenue count/sum/sum of squares/max/median; then the medians of the totals
WITH "t1" AS (
  SELECT
    COALESCE("t0"."campaign", '(none)') AS "__k0",
    COALESCE("t0"."segment", '(none)') AS "__k1",
    "t0"."revenue",
    "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC') AS "created",
    (
      "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
    )
    AND (
      "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
    ) AS "mature",
    (
      "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
    )
    AND (
      "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
    )
    AND (
      (
        "t0"."status" = 'won'
      )
      AND (
        (
          "t0"."closed_at" IS NULL
        )
        OR (
          "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
        )
      )
    ) AS "won",
    (
      "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
    )
    AND (
      "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
    )
    AND (
      (
        "t0"."status" = 'won'
      )
      AND (
        (
          "t0"."closed_at" IS NULL
        )
        OR (
          "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
        )
      )
    )
    AND (
      "t0"."revenue" IS NOT NULL
    ) AS "won_rev",
    (
      "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
    )
    AND NOT (
      (
        "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
      )
      AND (
        "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
      )
    )
    AND (
      "t0"."status" IN ('won', 'lost')
      AND (
        (
          "t0"."closed_at" IS NULL
        )
        OR (
          "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
        )
      )
    ) AS "left_closed"
  FROM "leads" AS "t0"
), "t3" AS (
  SELECT
    *
  FROM "t1" AS "t2"
  WHERE
    "t2"."won_rev"
)
SELECT
  *
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t5"."__k0",
      "t5"."__k1",
      "t5"."read",
      "t5"."future",
      "t5"."leads",
      "t5"."left_closed",
      "t5"."won",
      "t5"."rev_n",
      "t5"."rev_sum",
      "t5"."rev_sumsq",
      "t5"."rev_max",
      "t5"."rev_median",
      0 AS "level"
    FROM (
      SELECT
        "t2"."__k0",
        "t2"."__k1",
        COUNT(*) AS "read",
        COUNT(*) FILTER(WHERE
          NOT (
            "t2"."created"
          )) AS "future",
        COUNT(*) FILTER(WHERE
          "t2"."mature") AS "leads",
        COUNT(*) FILTER(WHERE
          "t2"."left_closed") AS "left_closed",
        COUNT(*) FILTER(WHERE
          "t2"."won") AS "won",
        COUNT("t2"."revenue") FILTER(WHERE
          "t2"."won_rev") AS "rev_n",
        SUM("t2"."revenue") FILTER(WHERE
          "t2"."won_rev") AS "rev_sum",
        SUM("t2"."revenue" * "t2"."revenue") FILTER(WHERE
          "t2"."won_rev") AS "rev_sumsq",
        MAX("t2"."revenue") FILTER(WHERE
          "t2"."won_rev") AS "rev_max",
        QUANTILE_CONT(CASE WHEN "t2"."won_rev" THEN "t2"."revenue" ELSE CAST(NULL AS DOUBLE) END, 0.5) AS "rev_median"
      FROM "t1" AS "t2"
      GROUP BY
        1,
        2
    ) AS "t5"
  ) AS "t8"
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      CAST(NULL AS TEXT) AS "__k0",
      "t7"."__k1",
      CAST(NULL AS BIGINT) AS "read",
      CAST(NULL AS BIGINT) AS "future",
      CAST(NULL AS BIGINT) AS "leads",
      CAST(NULL AS BIGINT) AS "left_closed",
      CAST(NULL AS BIGINT) AS "won",
      CAST(NULL AS BIGINT) AS "rev_n",
      CAST(NULL AS DOUBLE) AS "rev_sum",
      CAST(NULL AS DOUBLE) AS "rev_sumsq",
      CAST(NULL AS DOUBLE) AS "rev_max",
      "t7"."rev_median",
      1 AS "level"
    FROM (
      SELECT
        "t4"."__k1",
        QUANTILE_CONT("t4"."revenue", 0.5) AS "rev_median"
      FROM "t3" AS "t4"
      GROUP BY
        1
    ) AS "t7"
  ) AS "t10"
) AS "t11"
UNION ALL
SELECT
  *
FROM (
  SELECT
    CAST(NULL AS TEXT) AS "__k0",
    CAST(NULL AS TEXT) AS "__k1",
    CAST(NULL AS BIGINT) AS "read",
    CAST(NULL AS BIGINT) AS "future",
    CAST(NULL AS BIGINT) AS "leads",
    CAST(NULL AS BIGINT) AS "left_closed",
    CAST(NULL AS BIGINT) AS "won",
    CAST(NULL AS BIGINT) AS "rev_n",
    CAST(NULL AS DOUBLE) AS "rev_sum",
    CAST(NULL AS DOUBLE) AS "rev_sumsq",
    CAST(NULL AS DOUBLE) AS "rev_max",
    "t6"."rev_median",
    2 AS "level"
  FROM (
    SELECT
      QUANTILE_CONT("t4"."revenue", 0.5) AS "rev_median"
    FROM "t3" AS "t4"
  ) AS "t6"
) AS "t9";

-- 3. raw won revenues of groups with at most 5,000 (for the bootstrap; runs only when some group is that small)
SELECT
  "t3"."__k0",
  "t3"."__k1",
  "t3"."revenue"
FROM (
  SELECT
    "t2"."__k0",
    "t2"."__k1",
    "t2"."revenue",
    "t2"."created",
    "t2"."mature",
    "t2"."won",
    "t2"."won_rev",
    "t2"."left_closed",
    COUNT("t2"."revenue") OVER (
      PARTITION BY "t2"."__k0", "t2"."__k1"
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "__n"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        COALESCE("t0"."campaign", '(none)') AS "__k0",
        COALESCE("t0"."segment", '(none)') AS "__k1",
        "t0"."revenue",
        "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC') AS "created",
        (
          "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
        )
        AND (
          "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
        ) AS "mature",
        (
          "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
        )
        AND (
          "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
        )
        AND (
          (
            "t0"."status" = 'won'
          )
          AND (
            (
              "t0"."closed_at" IS NULL
            )
            OR (
              "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
            )
          )
        ) AS "won",
        (
          "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
        )
        AND (
          "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
        )
        AND (
          (
            "t0"."status" = 'won'
          )
          AND (
            (
              "t0"."closed_at" IS NULL
            )
            OR (
              "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
            )
          )
        )
        AND (
          "t0"."revenue" IS NOT NULL
        ) AS "won_rev",
        (
          "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
        )
        AND NOT (
          (
            "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
          )
          AND (
            "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
          )
        )
        AND (
          "t0"."status" IN ('won', 'lost')
          AND (
            (
              "t0"."closed_at" IS NULL
            )
            OR (
              "t0"."closed_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
            )
          )
        ) AS "left_closed"
      FROM "leads" AS "t0"
    ) AS "t1"
    WHERE
      "t1"."won_rev"
  ) AS "t2"
) AS "t3"
WHERE
  "t3"."__n" <= 5000
ORDER BY
  "t3"."__k0" ASC,
  "t3"."__k1" ASC,
  "t3"."revenue" ASC;

