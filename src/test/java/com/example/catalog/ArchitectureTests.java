package com.example.catalog;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package rules of the README, checked on the compiled classes: the rooms depend on
 * each other one way only ({@code web → product → cache}, {@code database} apart), and
 * neither the rooms nor the classes inside one room form a cycle. Plain Jupiter tests,
 * not ArchUnit's own engine: the engines of the platform run one after the other, and
 * this one ran alone at the end of surefire's run.
 */
class ArchitectureTests {

	private static final JavaClasses classes = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
		.importPackages("com.example.catalog");

	private static final ArchRule roomsDependOnEachOtherOneWayOnly = layeredArchitecture()
		.consideringOnlyDependenciesInLayers()
		.layer("web")
		.definedBy("com.example.catalog.web..")
		.layer("product")
		.definedBy("com.example.catalog.product..")
		.layer("cache")
		.definedBy("com.example.catalog.cache..")
		.layer("database")
		.definedBy("com.example.catalog.database..")
		.whereLayer("web")
		.mayNotBeAccessedByAnyLayer()
		.whereLayer("product")
		.mayOnlyBeAccessedByLayers("web")
		.whereLayer("cache")
		.mayOnlyBeAccessedByLayers("web", "product")
		.whereLayer("database")
		.mayNotBeAccessedByAnyLayer();

	private static final ArchRule roomsFormNoCycle = slices().matching("com.example.catalog.(*)..")
		.should()
		.beFreeOfCycles();

	private static final ArchRule classesOfOneRoomFormNoCycle = slices().assignedFrom(new TopLevelClasses())
		.should()
		.beFreeOfCycles();

	@Test
	void roomsDependOnEachOtherOneWayOnly() {
		roomsDependOnEachOtherOneWayOnly.check(classes);
	}

	@Test
	void roomsFormNoCycle() {
		roomsFormNoCycle.check(classes);
	}

	@Test
	void classesOfOneRoomFormNoCycle() {
		classesOfOneRoomFormNoCycle.check(classes);
	}

	/** One slice per top-level class, with its nested classes in it. */
	private static final class TopLevelClasses implements SliceAssignment {

		@Override
		public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
			String name = javaClass.getName();
			int nested = name.indexOf('$');
			return SliceIdentifier.of((nested < 0) ? name : name.substring(0, nested));
		}

		@Override
		public String getDescription() {
			return "top-level classes";
		}

	}

}
