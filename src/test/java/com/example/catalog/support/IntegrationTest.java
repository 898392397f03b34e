package com.example.catalog.support;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * An end-to-end test: the whole service on a random port, driven over HTTP, against a
 * real Redis and a real SQLite file. The test class registers where Redis is with
 * {@link TestEnvironment#register}.
 * <p>
 * The near cache is off unless a class turns it on ({@code @TestPropertySource} wins over
 * this): these tests assert what Redis answers, plant entries in it and stop it, and a
 * near hit would answer in its place. The near cache's own tests run it as the default
 * ({@code auto}) sets it; so do the tests of the packaged jar.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "catalog.cache.near.enabled=false")
@AutoConfigureRestTestClient
public @interface IntegrationTest {

}
