package com.example.catalog.support;

import jakarta.persistence.EntityManagerFactory;
import org.hibernate.SessionFactory;
import org.hibernate.stat.Statistics;

/**
 * Counts the SQL statements Hibernate prepared, so a test can prove a request never
 * reached the database.
 */
public final class DatabaseStatements {

	private final Statistics statistics;

	public DatabaseStatements(EntityManagerFactory entityManagerFactory) {
		this.statistics = entityManagerFactory.unwrap(SessionFactory.class).getStatistics();
	}

	public long count() {
		return this.statistics.getPrepareStatementCount();
	}

}
