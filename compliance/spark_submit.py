"""The file to hand to `spark-submit`, which runs a Python file, not a module.

    driver=$(python -c 'import compliance.spark_submit as m; print(m.__file__)')
    spark-submit --master yarn "$driver" crawl/*.warc.gz --index dispatches.sqlite --out out/

The arguments are those of `compliance audit`, with `--engine spark` implied. Absolute imports
only: spark-submit runs this file as `__main__`, outside its package.
"""

from compliance.engines.spark import main

if __name__ == "__main__":
    main()
