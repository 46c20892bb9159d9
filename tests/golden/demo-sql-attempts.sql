-- leads per (group, attempts, state, reason)
SELECT
  "t12"."__g0" AS "segment",
  "t12"."attempts",
  "t12"."state",
  "t12"."reason",
  COUNT(*) AS "leads",
  SUM("t12"."_revenue") AS "revenue_sum",
  COUNT("t12"."_revenue") AS "revenue_n"
FROM (
  SELECT
    "t11"."_lid",
    "t11"."__g0",
    "t11"."_status",
    "t11"."_closed",
    "t11"."_revenue",
    "t11"."_counted",
    "t11"."_stale",
    "t11"."_pid",
    "t11"."_n",
    "t11"."_contact",
    "t11"."_known",
    CASE
      WHEN NOT (
        "t11"."_stale"
      )
      OR (
        NOT (
          "t11"."_pid" IS NOT NULL
        )
        AND (
          "t11"."_counted" IS NOT NULL
        )
        AND (
          "t11"."_counted" < 0
        )
      )
      THEN 0
      ELSE CASE
        WHEN "t11"."_pid" IS NOT NULL
        THEN "t11"."_n"
        ELSE COALESCE("t11"."_counted", 0)
      END
    END AS "attempts",
    CASE
      WHEN NOT (
        "t11"."_stale"
      )
      OR (
        NOT (
          "t11"."_pid" IS NOT NULL
        )
        AND (
          "t11"."_counted" IS NOT NULL
        )
        AND (
          "t11"."_counted" < 0
        )
      )
      THEN 'X'
      WHEN "t11"."_status" = 'won'
      THEN 'W'
      WHEN (
        "t11"."_status" = 'lost'
      )
      AND (
        (
          "t11"."_pid" IS NOT NULL
        ) AND COALESCE("t11"."_contact", FALSE)
      )
      THEN 'L'
      WHEN (
        "t11"."_status" = 'lost'
      )
      AND (
        CASE
          WHEN "t11"."_pid" IS NOT NULL
          THEN "t11"."_n"
          ELSE COALESCE("t11"."_counted", 0)
        END > 0
      )
      AND NOT (
        (
          "t11"."_pid" IS NOT NULL
        ) AND COALESCE("t11"."_known", FALSE)
      )
      THEN 'A'
      ELSE 'C'
    END AS "state",
    CASE
      WHEN NOT (
        "t11"."_stale"
      )
      THEN 'not_stale'
      WHEN NOT (
        "t11"."_pid" IS NOT NULL
      )
      AND (
        "t11"."_counted" IS NOT NULL
      )
      AND (
        "t11"."_counted" < 0
      )
      THEN 'negative_count'
      ELSE ''
    END AS "reason"
  FROM (
    SELECT
      "t6"."_lid",
      "t6"."__g0",
      "t6"."_status",
      "t6"."_closed",
      "t6"."_revenue",
      "t6"."_counted",
      "t6"."_stale",
      "t10"."_pid",
      "t10"."_n",
      "t10"."_contact",
      "t10"."_known"
    FROM (
      SELECT
        "t0"."lead_id" AS "_lid",
        COALESCE("t0"."segment", '(none)') AS "__g0",
        "t0"."status" AS "_status",
        "t0"."closed_at" AS "_closed",
        "t0"."revenue" AS "_revenue",
        "t0"."attempts" AS "_counted",
        "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 4, 1, 16, 0, 0.0, 'UTC') AS "_stale"
      FROM "leads" AS "t0"
    ) AS "t6"
    LEFT OUTER JOIN (
      SELECT
        "t8"."_aid" AS "_pid",
        SUM(
          CASE
            WHEN "t8"."_kind" IN ('call', 'email')
            AND (
              (
                "t8"."_closed" IS NULL
              ) OR (
                "t8"."_at" < "t8"."_closed"
              )
            )
            THEN 1
            ELSE 0
          END
        ) AS "_n",
        BOOL_OR(
          CAST("t8"."_outcome" IN ('connected', 'replied')
          AND (
            (
              "t8"."_closed" IS NULL
            ) OR (
              "t8"."_at" <= "t8"."_closed"
            )
          ) AS BOOLEAN)
        ) AS "_contact",
        BOOL_OR(CAST("t8"."_outcome" IS NOT NULL AS BOOLEAN)) AS "_known"
      FROM (
        SELECT
          "t5"."_aid",
          "t5"."_at",
          "t5"."_kind",
          "t5"."_outcome",
          "t7"."_lid",
          "t7"."_closed"
        FROM (
          SELECT
            "t1"."lead_id" AS "_aid",
            "t1"."at" AS "_at",
            "t1"."kind" AS "_kind",
            "t1"."outcome" AS "_outcome"
          FROM "activities" AS "t1"
        ) AS "t5"
        INNER JOIN (
          SELECT
            "t0"."lead_id" AS "_lid",
            "t0"."closed_at" AS "_closed"
          FROM "leads" AS "t0"
          WHERE
            "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 4, 1, 16, 0, 0.0, 'UTC')
        ) AS "t7"
          ON "t5"."_aid" = "t7"."_lid"
      ) AS "t8"
      GROUP BY
        1
    ) AS "t10"
      ON "t6"."_lid" = "t10"."_pid"
  ) AS "t11"
) AS "t12"
GROUP BY
  1,
  2,
  3,
  4;

