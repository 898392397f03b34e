package com.example.catalog.web;

import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;

import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;

/**
 * Answers the requests Tomcat refuses itself while parsing them (an encoded NUL or slash
 * in the URL, a bad escape, a malformed request line) in the same problem+json form as
 * every other error. They never reach Spring MVC or the {@code /error} page, so only the
 * Host's error report valve can shape the answer: this puts one that writes problem+json
 * in place of Tomcat's HTML one.
 */
@Component
class ContainerErrorProblems implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {

	@Override
	public void customize(TomcatServletWebServerFactory factory) {
		factory.addContextCustomizers((context) -> {
			StandardHost host = (StandardHost) context.getParent();
			for (Valve valve : host.getPipeline().getValves()) {
				if (valve instanceof ErrorReportValve) {
					host.getPipeline().removeValve(valve);
				}
			}
			host.getPipeline().addValve(new ProblemReportValve());
			// On start the Host adds a valve of this class unless it has
			// one; left at its default, it would add Tomcat's HTML valve back.
			host.setErrorReportValveClass(ProblemReportValve.class.getName());
		});
	}

	/**
	 * Last, so that the ErrorReportValve Spring Boot's own Tomcat customizer adds to the
	 * Host is already there to be replaced.
	 */
	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

	/** Tomcat's error report valve, writing problem+json instead of an HTML page. */
	static class ProblemReportValve extends ErrorReportValve {

		@Override
		protected void report(Request request, Response response, Throwable throwable) {
			int status = response.getStatus();
			// ErrorReportValve's own guards: only an error nothing has answered yet, and
			// only while the connection can still be written to. An error inside the
			// application has already been answered by the /error page.
			if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
				return;
			}
			AtomicBoolean ioAllowed = new AtomicBoolean();
			response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
			if (!ioAllowed.get()) {
				return;
			}
			try {
				RequestGuard.SECURITY_HEADERS.forEach(response::setHeader);
				response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
				response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
				Writer writer = response.getReporter();
				if (writer != null) {
					writer.write(problem(status));
					response.finishResponse();
				}
			}
			catch (IOException | IllegalStateException ex) {
				// The client has gone: there is no one left to answer.
			}
		}

		// Built from the status alone: Tomcat's message and exception name its own
		// internals, and echoing the malformed URL would hand hostile bytes back. The
		// members come in the order Spring's problem+json responses give them.
		private static String problem(int status) {
			HttpStatus known = HttpStatus.resolve(status);
			String title = (known != null) ? known.getReasonPhrase() : "Error";
			String detail = (status == 400) ? "The request is malformed"
					: (status < 500) ? "The request could not be read" : "The request could not be processed";
			return "{\"detail\":\"" + detail + "\",\"status\":" + status + ",\"title\":\"" + title + "\"}";
		}

	}

}
