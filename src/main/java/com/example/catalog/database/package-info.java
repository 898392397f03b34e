/**
 * The data source for SQLite or PostgreSQL: SQLite's single write connection beside its
 * read pool, and the settings of both. Stands apart: no other room imports it, and it
 * imports none.
 */
package com.example.catalog.database;
