package com.example.catalog.product;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

/**
 * The product changed since the version the client named in {@code If-Match}: answered
 * with 412, so that the client reads it again instead of overwriting someone else's
 * update.
 */
class PreconditionFailedException extends ErrorResponseException {

	PreconditionFailedException(long currentVersion) {
		super(HttpStatus.PRECONDITION_FAILED, problem(currentVersion), null);
	}

	private static ProblemDetail problem(long currentVersion) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.PRECONDITION_FAILED,
				"The product has changed since the version given in If-Match; read it again (GET) and retry with its ETag");
		problem.setTitle("Precondition Failed");
		if (currentVersion >= 0) {
			problem.setProperty("current_version", currentVersion);
		}
		return problem;
	}

}
