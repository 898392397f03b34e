package com.example.catalog.support;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A test class that must not share its JVM with other test classes: it times requests
 * against a tight bound, or reads the whole process's output. Surefire leaves it out, and
 * failsafe runs it, one such class at a time, next to the tests of the packaged jar:
 * their services run in processes of their own, so no other class starts a Spring context
 * in failsafe's JVM. Run alone at the end of surefire's run, these classes left both
 * cores about half idle for 45 s.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(RunsAlone.TAG)
@ResourceLock(RunsAlone.TAG)
public @interface RunsAlone {

	/** The tag the pom selects these classes by. */
	String TAG = "runs-alone";

}
