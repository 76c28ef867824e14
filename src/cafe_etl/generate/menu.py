"""The cafe menu and the customer names the generator draws from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """A menu item: prices in integer pennies; one-size items have no ``large`` price."""

    name: str
    regular: int
    large: int | None = None
    flavours: tuple[str, ...] = ()
    weight: int = 10

    @property
    def prices(self) -> dict[str | None, int]:
        """Price per size; the size is ``None`` for an item sold in one size only."""
        if self.large is None:
            return {None: self.regular}
        return {"Regular": self.regular, "Large": self.large}


_TEAS = ("Earl Grey", "English breakfast", "Camomile", "Darjeeling", "Fruit", "Green", "Peppermint")
_SYRUPS = ("Vanilla", "Caramel", "Hazelnut")

MENU: tuple[Product, ...] = (
    Product("Latte", 215, 245, weight=30),
    Product("Flavoured latte", 255, 285, (*_SYRUPS, "Gingerbread"), weight=15),
    Product("Iced latte", 235, 265, weight=8),
    Product("Flavoured iced latte", 275, 325, _SYRUPS, weight=10),
    Product("Cappuccino", 215, 245, weight=25),
    Product("Americano", 195, 225, weight=20),
    Product("Iced americano", 215, 250, weight=20),
    Product("Espresso", 150, 180, weight=12),
    Product("Macchiato", 175, 205, weight=5),
    Product("Cortado", 205, weight=8),
    Product("Flat white", 215, 245, weight=20),
    Product("Mocha", 230, 260, weight=10),
    Product("Filter coffee", 150, 180, weight=18),
    Product("Cold brew", 250, 290, weight=5),
    Product("Chai latte", 230, 260, weight=14),
    Product("Dirty chai latte", 260, 290, weight=4),
    Product("Matcha latte", 260, 290, weight=4),
    Product("Hot chocolate", 220, 290, weight=12),
    Product("Hot Chocolate", 140, 170, weight=8),
    Product("Luxury hot chocolate", 240, 270, weight=6),
    Product("Flavoured hot chocolate", 260, 290, _SYRUPS, weight=6),
    Product("Speciality Tea", 130, 160, _TEAS, weight=18),
    Product("Red Label tea", 120, weight=6),
    Product("Frappes", 275, 325, ("Chocolate Cookie", "Coffee", "Strawberries & Cream"), weight=10),
    Product("Smoothies", 200, 250, ("Berry Beautiful", "Carrot Kick", "Glowing Greens"), weight=10),
    Product("Glass of milk", 70, weight=4),
    Product("Babyccino", 0, weight=3),
    Product("Orange juice", 180, weight=5),
    Product("Apple juice", 180, weight=3),
    Product("Sparkling water", 140, weight=4),
    Product("Still water", 120, weight=4),
    Product("Croissant", 165, weight=8),
    Product("Pain au chocolat", 185, weight=6),
    Product("Blueberry muffin", 225, weight=5),
    Product("Banana bread", 250, weight=4),
    Product("Flapjack", 195, weight=4),
    Product("Chocolate brownie", 245, weight=4),
    Product("Chocolate chip cookie", 150, weight=4),
    Product("Cheese toastie", 395, weight=5),
    Product("Bacon roll", 350, weight=4),
)

LAUNCH_PRODUCT = Product("Pumpkin spice latte", 275, 315, weight=25)

FIRST_NAMES: tuple[str, ...] = (
    "Alice", "Amir", "Ava", "Ben", "Chloe", "Daniel", "Deborah", "Eilidh", "Emma", "Fatima",
    "George", "Grace", "Harry", "Isla", "Jack", "James", "Jessica", "Kofi", "Liam", "Lucy",
    "Margaret", "Mohammed", "Niamh", "Noah", "Olivia", "Oscar", "Priya", "Rhys", "Richard",
    "Ruth", "Sam", "Sarah", "Sean", "Sophie", "Thomas", "Tina", "Wei", "William", "Yusuf", "Zara",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Ahmed", "Baker", "Bennett", "Brown", "Campbell", "Chen", "Clarke", "Davies", "Evans",
    "Fraser", "Green", "Hall", "Hughes", "Jones", "Kaur", "Kelly", "Khan", "Lewis", "Macdonald",
    "Martin", "Morgan", "Murphy", "Nowak", "O'Neill", "Owens", "Patel", "Price", "Roberts",
    "Robinson", "Scott", "Singh", "Smith", "Taylor", "Thomas", "Thompson", "Walker", "Watson",
    "White", "Williams", "Wilson",
)  # fmt: skip
