"""A small pyspark batch for the README's example: counts 1000 rows and says
who Spark runs as. Through livygate it prints "count 1000 as alice" (in the
batch's log: GET /batches/{id}/log)."""

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("livygate-example").getOrCreate()
print("count", spark.range(1000).count(), "as", spark.sparkContext.sparkUser())
spark.stop()
